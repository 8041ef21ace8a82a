"""podwall: Kubernetes NetworkPolicy, end to end.

Stages, each a package, data flowing one way:
manifests -> model -> engine -> analysis | dataplane -> lab | agent -> cli.
"""

__version__ = "0.1.0"
