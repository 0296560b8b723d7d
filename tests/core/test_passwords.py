"""Password hashes: argon2id with the library's parameters everywhere but the test suite."""
from argon2 import PasswordHasher

from app.core.passwords import hasher_for


def test_every_mode_but_testing_uses_the_librarys_parameters():
    default = PasswordHasher()
    for mode in ("production", "development", ""):
        hasher = hasher_for(mode)
        assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == \
               (default.time_cost, default.memory_cost, default.parallelism), mode


def test_a_hash_made_by_the_suite_verifies_elsewhere_and_is_rehashed_there():
    made = hasher_for("testing").hash("correct-horse-battery")
    production = hasher_for("production")
    assert production.verify(made, "correct-horse-battery")
    assert production.check_needs_rehash(made)
