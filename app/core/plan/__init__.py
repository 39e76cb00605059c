"""The plan stage: the timeline (a pure function of the script and the measured voice lengths), the
camera, format presets and target-length fitting, and the intro/outro bumper cards."""
