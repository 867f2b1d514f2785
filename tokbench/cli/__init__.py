"""The thin Typer CLI: one module per command family, each parsing options, calling the library and
rendering. Errors are turned into one red line at the group boundary (:class:`TokbenchGroup`)."""
