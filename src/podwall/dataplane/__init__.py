"""Engine state -> one nftables ruleset, applied atomically (the enforcing half of podwall)."""

from podwall.dataplane.backend import Backend, MemoryBackend, NftBackend
from podwall.dataplane.compile import Ruleset, compile_ruleset

__all__ = ["Backend", "MemoryBackend", "NftBackend", "Ruleset", "compile_ruleset"]
