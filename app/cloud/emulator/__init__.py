"""The cloud path without AWS: a moto server on loopback, the production state machine adapted for it,
and a Fargate stand-in that runs the recorder entry point for each ECS task (see ``local.py``)."""
