"""The review web page: server-rendered Jinja2 templates with htmx partials over the JSON API."""
