"""kinema: a self-hosted image-to-video service that speaks the Kling API."""

__version__ = "0.1.0"
