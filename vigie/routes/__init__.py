"""The application shell's own routers: authentication, API tokens, the camera inventory."""
