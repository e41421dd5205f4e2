"""The micrograd playground: a local web page where the engine trains while you watch.

`app.create_app()` builds the ASGI app, `server.serve(...)` runs it with uvicorn; `micrograd
playground` is the command. Importing this package imports nothing heavy: the modules below
pull in starlette, uvicorn and pydantic only when they are used.
"""
