"""Engine state -> one nftables ruleset, applied atomically (the enforcing half of podwall)."""

from podwall.dataplane.backend import Backend, CounterValue, MemoryBackend, NftBackend
from podwall.dataplane.compile import DropCounter, Ruleset, compile_ruleset

__all__ = [
    "Backend",
    "CounterValue",
    "DropCounter",
    "MemoryBackend",
    "NftBackend",
    "Ruleset",
    "compile_ruleset",
]
