"""taz's gopher service: the download handler, reading its menus, verify, serving the archive.

See docs/gopher.md. Nothing here but the handler and the server touches the network.
"""
