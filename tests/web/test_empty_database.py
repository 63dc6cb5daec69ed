"""A database that `init-db` never built answers a Chinese page, never an English 500."""
from oversight import create_app


def test_the_log_in_page_before_init_db_says_in_chinese_what_to_do(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "empty", "SESSION_COOKIE_SECURE": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite'}"})
    http = app.test_client()
    answer = http.get("/login")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503, page
    assert "数据库尚未初始化" in page and "flask --app app init-db" in page
    assert "Internal Server Error" not in page
