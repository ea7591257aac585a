"""The web app's static files, served on the API's own origin (README "The web app")."""
