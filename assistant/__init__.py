"""Cited, extractive answers for school leaders on the Children Act 2004 duty to co-operate,
children's trusts and pupils' well-being."""
import os as _os

# One BLAS thread: the only matrix work at question time is a small matrix-vector product, and OpenBLAS's
# extra threads spin-wait on the second core, where the other request's model run wants to be
# (README, "Start-up": latency with one core busy). Set before numpy is first imported; a caller's own
# value wins.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")
from .config import Settings, get_settings
from .errors import AssistantError, InputError, LoadError, StoreError
from .models import Answer, Citation, Turn
from .service import Assistant

__all__ = ["Assistant", "Answer", "Citation", "Turn", "Settings", "get_settings",
           "AssistantError", "InputError", "LoadError", "StoreError"]
__version__ = "0.1.0"
