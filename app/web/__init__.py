"""The web app: action links, the JSON API and (in dev mode) the captured-mail page."""
