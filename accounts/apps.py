from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # The OpenAPI extension for our JWT authentication class, and the cache invalidation.
        from accounts import authentication, readcache  # noqa: F401

        readcache.connect_receivers()
