"""Infrastructure of the pipeline: external tools (ffmpeg, Chromium), browser provisioning, the loopback
site server, read-only resources, progress and cancellation."""
