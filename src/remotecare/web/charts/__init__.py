"""Charts drawn on the server as SVG: no script, no request to any other host."""
