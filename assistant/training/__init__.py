"""Governor training: duty cards, glossary, quiz and the training pack, every line a verbatim quote
from the library (``materials.Training`` builds them; ``Assistant`` calls it)."""
