import factory

from accounts.models import Role, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    timezone = "UTC"
    password = factory.django.Password("correct-horse-battery-staple")


class PatientFactory(UserFactory):
    role = Role.PATIENT


class DoctorFactory(UserFactory):
    role = Role.DOCTOR
    is_verified_doctor = True
