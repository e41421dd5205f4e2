"""The micrograd playground: a local web page where the engine trains while you watch.

`app.create_app()` builds the ASGI app, `server.serve(...)` runs it with uvicorn; `micrograd
playground` is the command. The server's packages (starlette, uvicorn, websockets, pydantic)
are the `playground` extra, `pip install "micrograd[playground]"`. Importing this package
imports none of them: the modules below pull them in only when they are used.
"""
