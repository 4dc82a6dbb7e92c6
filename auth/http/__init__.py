"""The HTTP wing of ``auth``: handlers, forms, cookies, CSRF and view models of the account
pages, the grants and access-log APIs and the identity provider's endpoints. It stays empty so
that importing one module of the wing loads only what that module needs (the routers are
gathered in :mod:`auth.http.routes` and :mod:`auth.http.oidc`)."""
