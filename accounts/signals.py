"""Keep the authentication cache true: drop a user's entry whenever the user is written."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.authentication import user_cache_key
from accounts.models import User


def forget_users(user_ids) -> None:
    cache.delete_many([user_cache_key(pk) for pk in user_ids])


@receiver(post_save, sender=User, dispatch_uid="accounts.forget_user_on_save")
@receiver(post_delete, sender=User, dispatch_uid="accounts.forget_user_on_delete")
def forget_user(sender, instance: User, **kwargs) -> None:
    ids = [instance.pk]
    if instance.is_doctor:
        # Patients' cached entries carry their doctor (the name on their profile).
        ids += list(User.objects.filter(assigned_doctor_id=instance.pk).values_list("pk", flat=True))
    forget_users(ids)
