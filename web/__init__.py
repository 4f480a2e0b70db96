"""The web face of newsearch (the Flask app arrives with the web issue)."""
