"""The ways in, each a thin layer over ``Assistant``: the command line (``cli``, ``cli_training``,
``batch``) and the Gradio web UI (``web``, ``web_training``, ``feedback``)."""
