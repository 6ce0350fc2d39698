"""S8-S10 workload apps: one module per framework, each exposing ``app`` (see ``workloads.py``)."""
