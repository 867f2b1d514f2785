"""One adapter per tokenizer file format, all implementing :class:`tokbench.tokenizer.base.Tokenizer`."""
