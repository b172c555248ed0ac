import pytest

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def register(client, n, **extra):
    body = {"username": f"user{n}", "email": f"user{n}@example.test", "password": PASSWORD}
    return client.post("/api/auth/register/", body, format="json", **extra)


def test_sixth_registration_from_one_address_is_a_json_429(anon):
    for n in range(5):
        assert register(anon, n).status_code == 201
    response = register(anon, 5)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()
    assert 1 <= int(response["Retry-After"]) <= 3600


def test_forged_forwarded_for_does_not_reset_the_limit(anon):
    for n in range(5):
        assert register(anon, n, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code == 201
    assert register(anon, 5, HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


def test_trusted_proxy_count_uses_the_proxy_supplied_address(anon, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        assert register(anon, n, HTTP_X_FORWARDED_FOR=f"1.1.1.1, 203.0.113.{n}").status_code == 201
    # A different real client (set by the proxy, rightmost) is not limited ...
    assert register(anon, 10, HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.7").status_code == 201
    # ... and one client cannot escape by forging entries to the left of the proxy's.
    for n in range(20, 25):
        assert register(anon, n, HTTP_X_FORWARDED_FOR=f"9.9.9.{n}, 198.51.100.8").status_code == 201
    assert register(anon, 30, HTTP_X_FORWARDED_FOR="8.8.8.8, 198.51.100.8").status_code == 429


def test_login_is_limited_to_ten_an_hour(anon):
    for _ in range(10):
        response = anon.post("/api/auth/login/", {"username": "nobody", "password": "x"}, format="json")
        assert response.status_code == 401
    response = anon.post("/api/auth/login/", {"username": "nobody", "password": "x"}, format="json")
    assert response.status_code == 429
    assert "Retry-After" in response


def test_limits_are_per_address(anon):
    for n in range(5):
        register(anon, n, REMOTE_ADDR="192.0.2.1")
    assert register(anon, 6, REMOTE_ADDR="192.0.2.1").status_code == 429
    assert register(anon, 7, REMOTE_ADDR="192.0.2.2").status_code == 201


def admin_login(client, **extra):
    return client.post("/admin/login/", {"username": "nobody", "password": "x"}, **extra)


def test_admin_login_is_limited_like_the_api_login(client):
    for _ in range(10):
        assert admin_login(client).status_code == 200  # the form again, with its error
    response = admin_login(client)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert "Too many login attempts" in response.content.decode()
    assert client.get("/admin/login/").status_code == 200  # showing the form is not an attempt
    assert admin_login(client, REMOTE_ADDR="192.0.2.9").status_code == 200  # per address


def test_admin_and_api_logins_share_one_counter(client, anon):
    for _ in range(5):
        assert admin_login(client).status_code == 200
        assert anon.post("/api/auth/login/", {"username": "nobody", "password": "x"}, format="json").status_code == 401
    assert admin_login(client).status_code == 429
    assert anon.post("/api/auth/login/", {"username": "n", "password": "x"}, format="json").status_code == 429


def test_a_good_admin_login_still_works(client, admin_user):
    response = client.post("/admin/login/?next=/admin/", {"username": admin_user.username, "password": "password"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
