"""Browser visualization of the model for students (Solara + Mesa; works offline).

One module per job: ``levers`` (scenario, seed, sliders -> a model), ``run`` (a model and its
daily series from day 0, the baseline twin), ``mapview`` / ``palette`` / ``legend`` (the map),
``plots``, ``story`` (the text), ``inspector`` (a clicked cell), ``replay`` (a run of a
finished experiment), ``session`` (closed tabs, idle sessions), ``components`` / ``controls``
/ ``layout`` / ``page`` (the Solara page), ``app`` (what Solara serves), ``server``
(``lifecircle viz``), ``assets`` (offline browser assets), ``screenshot`` (the README's).
"""
