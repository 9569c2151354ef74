import pytest

from hiitpi.config import load_config
from hiitpi.errors import ConfigError


def test_defaults_need_no_file_or_environment():
    s = load_config(env={})
    assert s.pose.backend == "blazepose"
    assert s.pose.model_complexity == 1
    assert s.redis_url is None
    assert s.web.host == "0.0.0.0"


def test_precedence_file_then_environment_then_flags(tmp_path):
    cfg = tmp_path / "hiitpi.toml"
    cfg.write_text('[pose]\nmodel_complexity = 0\nbackend = "mediapipe"\n[web]\nport = 9000\n')
    env = {"HIITPI_WEB__PORT": "9100", "HIITPI_REDIS_URL": "redis://127.0.0.1:6379/3"}
    s = load_config(cfg, {"web": {"port": 9200}}, env=env)
    assert s.pose.model_complexity == 0
    assert s.web.port == 9200
    assert s.redis_url == "redis://127.0.0.1:6379/3"
    assert load_config(cfg, env=env).web.port == 9100


@pytest.mark.parametrize(
    ("text", "message"),
    [("[pose]\nmodel_complexity = 3\n", "pose.model_complexity: Input should be less than"),
     ("[pose]\nbakend = 'x'\n", "pose.bakend: unknown key"),
     ("[web]\nport = 'eighty'\n", "web.port: Input should be a valid integer"),
     ("[pose\n", "is not valid TOML")],
)  # fmt: skip
def test_bad_file_values_name_the_key(tmp_path, text, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(cfg, env={})


def test_misspelt_environment_key_is_an_error_naming_it():
    with pytest.raises(ConfigError, match=r"HIITPI_POSE__BAKEND: unknown setting; did you mean "
                       r"HIITPI_POSE__BACKEND\?$"):  # fmt: skip
        load_config(env={"HIITPI_POSE__BAKEND": "mediapipe"})
    with pytest.raises(ConfigError, match="HIITPI_COLOUR: unknown setting; valid: HIITPI_"):
        load_config(env={"HIITPI_COLOUR": "red"})  # nothing close: every valid name


def test_missing_config_file():
    with pytest.raises(ConfigError, match=r"config file not found: /nope\.toml"):
        load_config("/nope.toml", env={})


def test_config_path_from_environment(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("log_level = 'DEBUG'\n")
    assert load_config(env={"HIITPI_CONFIG": str(cfg)}).log_level == "DEBUG"


@pytest.mark.parametrize(
    ("env", "message"),
    [({"HIITPI_REDIS_URL": "notaurl"}, "redis_url: Value error, 'notaurl' is not a Redis URL"),
     ({"HIITPI_REDIS_URL": "http://127.0.0.1:6379"}, "is not a Redis URL: redis://host"),
     ({"HIITPI_DATABASE_URL": "postgres//::bad"},
      "database_url: Value error, 'postgres//::bad' is not a database URL")],
)  # fmt: skip
def test_a_malformed_url_is_a_config_error(env, message):
    with pytest.raises(ConfigError, match=message):
        load_config(env=env)


def test_good_urls_and_a_data_dir_that_is_a_file(tmp_path):
    env = {"HIITPI_REDIS_URL": "unix:///run/redis.sock",
           "HIITPI_DATABASE_URL": "postgresql+psycopg://me@127.0.0.1:5432/test"}  # fmt: skip
    s = load_config(env=env)
    assert s.redis_url == "unix:///run/redis.sock" and s.database_url is not None
    unset = load_config(env={"HIITPI_REDIS_URL": "", "HIITPI_DATABASE_URL": ""})
    assert not unset.redis_url and not unset.database_url  # the README's example file's ""
    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(ConfigError, match=f"data_dir: Value error, {afile} is a file, not a"):
        load_config(env={"HIITPI_DATA_DIR": str(afile)})
