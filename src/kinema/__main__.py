from kinema.cli import app

app()
