"""Cited, extractive answers for school leaders on the Children Act 2004 duty to co-operate,
children's trusts and pupils' well-being."""
from .config import Settings, get_settings
from .errors import AssistantError, InputError, LoadError, StoreError
from .models import Answer, Citation, Turn
from .service import Assistant

__all__ = ["Assistant", "Answer", "Citation", "Turn", "Settings", "get_settings",
           "AssistantError", "InputError", "LoadError", "StoreError"]
__version__ = "0.1.0"
