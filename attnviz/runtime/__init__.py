"""The runtime: devices and CPU threads, memory, atomic file writes, safetensors headers.

The lowest level: nothing here knows about models, attention or pages."""
