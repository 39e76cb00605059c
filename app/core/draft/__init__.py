"""The draft stage: documents (PDF, Markdown, text), codegen importers (Python and JS/TS, parsed, never
run), drafters (offline and model backends), and ``drafting.draft`` that ties them together."""
