"""The page template and its stylesheet (inline: no assets folder, no CDN, works offline)."""

from __future__ import annotations

CSS = """
body { font-family: system-ui, -apple-system, sans-serif; margin: 0; background: #f4f5f7;
       color: #222; }
#nav { display: flex; flex-wrap: wrap; align-items: center; gap: .2em 1.2em; padding: .6em 1em;
       background: #1b1f24; }
#nav .brand { color: #7CFC9A; font-weight: 700; font-size: 1.3em; margin-right: .5em; }
#nav .nav-link { color: #ddd; text-decoration: none; }
#nav .nav-link:hover { color: #fff; text-decoration: underline; }
main { max-width: 1280px; margin: auto; padding: 1em; }
h1 { font-size: 1.6em; margin: .3em 0 .6em; }
.card { background: #fff; border-radius: 8px; padding: 1.2em; box-shadow: 0 1px 3px #0002; }
.narrow { max-width: 420px; margin: 2em auto; }
.row { display: flex; align-items: center; gap: .6em; margin: .5em 0; }
.grow { flex: 1; }
input[type=text] { flex: 1; font-size: 1.1em; padding: .4em .6em; border: 1px solid #bbb;
                   border-radius: 4px; }
button, a.button { font-size: 1em; padding: .45em 1em; border: 0; border-radius: 4px;
                   background: #2563eb; color: #fff; cursor: pointer; text-decoration: none; }
button.secondary { background: #6b7280; margin-left: auto; }
button.done { background: #16a34a; font-size: 1.2em; width: 100%; margin-top: .6em; }
a.hidden { display: none; }
.error { color: #b91c1c; min-height: 1.2em; }
.workout { display: flex; flex-wrap: wrap; gap: 1em; }
.video-box { flex: 2 1 480px; min-width: 0; }
.video { display: block; width: 100%; height: auto; background: #000; border-radius: 8px;
         min-height: 240px; }
.side { flex: 1 1 240px; display: flex; flex-direction: column; gap: .4em; }
.indicators { display: grid; grid-template-columns: 1fr 1fr; gap: .4em; }
.indicator { background: #fff; border-radius: 6px; padding: .3em .8em;
             box-shadow: 0 1px 2px #0002; }
.ind-title { color: #666; font-size: .85em; }
.ind-value { font-size: 1.5em; font-weight: 600; }
#indicator-reps { font-size: 2.4em; color: #16a34a; }
#indicator-no-reps { color: #dc2626; }
.reason { color: #dc2626; font-size: .9em; }
.message, .feedback { color: #444; min-height: 1.2em; }
.table { border-collapse: collapse; width: 100%; background: #fff; margin: .5em 0 1.2em; }
.table th, .table td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #e5e7eb; }
.table th { background: #f0f1f3; }
.board h3 { margin-bottom: .2em; }
"""

INDEX_STRING = (
    """<!DOCTYPE html>
<html lang="en">
<head>
{%metas%}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{%title%}</title>
{%favicon%}
{%css%}
<style>"""
    + CSS
    + """</style>
</head>
<body>
{%app_entry%}
<footer>
{%config%}
{%scripts%}
{%renderer%}
</footer>
</body>
</html>
"""
)
