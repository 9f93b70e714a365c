"""Generated pages, one module each; :mod:`cloudpad.site.registry` lists them."""
