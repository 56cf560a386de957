"""What a served app allows its visitors: limits, the operator's data root, zip uploads read in
memory, and expensive jobs shared and queued across sessions.

A teacher runs one server for a class, so every browser is an untrusted visitor: with default
settings no visitor can read or list the server's files, and memory and CPU follow what is shown
and computed, never what a file claims.
"""
from .archive import ZipClassFolder, read_zip_classes
from .dataroot import DataRoot
from .jobs import JobQueue, SharedResults
from .limits import ServerLimits, server_limits

__all__ = ["DataRoot", "JobQueue", "ServerLimits", "SharedResults", "ZipClassFolder", "read_zip_classes",
           "server_limits"]
