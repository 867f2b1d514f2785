"""Where the counting runs: ``local`` (this process) or ``ray`` (a Ray cluster, :mod:`.ray_counts`).

Both give the same counts; the ray engine needs the ``ray`` extra (``pip install 'tokbench[ray]'``).
"""

ENGINES = ("local", "ray")
