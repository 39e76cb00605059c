"""The workbench: what the desktop app manages around the pipeline — the file library, projects, render
history and app settings — with no Qt, so the CLI and tests can use it and ``app/ui`` stays widgets and
controllers only."""
