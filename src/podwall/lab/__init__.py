"""A lab of real "pods": network namespaces routed through a node namespace that holds podwall's
nftables ruleset, with servers on every container port and probes that fill a Matrix."""
