from acme import create_app

app = create_app()
