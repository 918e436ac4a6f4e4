"""The Solara app file ``lifecircle viz`` serves (``solara run viz/app.py``): the page only.

See :mod:`viz.page` for the page and why it is not Mesa's ``SolaraViz`` frame.
"""

from viz.page import Page

__all__ = ["Page"]
