"""The ``lifecircle`` command line (``lifecircle.cli``); the model is the ``model`` package."""
