"""Map data into lifecircle: ``lifecircle import`` builds a city layer from OSM and POI data.

The steps are listed in :mod:`mapdata.importer`; the model side (reading the layer) is
:mod:`model.city_layer`. The mapping tables are data: ``poi_categories.toml`` and
``features.toml``.
"""
