"""Browser visualization of the model for students (Solara + Mesa; works offline).

``viz.app`` is the Solara page, ``viz.server.serve()`` runs it (``lifecircle viz``), and
``python -m viz.assets`` fills Solara's asset cache from the npm registry during set-up.
"""
