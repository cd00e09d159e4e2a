"""Claude Code's statusline input (https://code.claude.com/docs/en/statusline), read defensively: any field
may be absent or null (``rate_limits`` before the first response or for API-key users, each window on its
own; ``context_window.used_percentage`` early in a session), and nothing in it may make us fail."""

from __future__ import annotations

# Plain classes, not dataclasses: ``dataclasses`` imports ``inspect``, ~10 ms of every statusline run.


class Limit:
    """One official rate-limit window: ``used_percentage`` (0-100) and ``resets_at`` (Unix seconds, or None)."""

    __slots__ = ("window", "used_percentage", "resets_at")

    def __init__(self, window: str, used_percentage: float, resets_at: float | None):
        self.window, self.used_percentage, self.resets_at = window, used_percentage, resets_at

    def __repr__(self) -> str:
        return f"Limit({self.window!r}, {self.used_percentage!r}, {self.resets_at!r})"


class Hook:
    """The statusline input's fields we use; each absent, null or mistyped one is its default."""

    session_id = model_id = model_name = version = cwd = project_dir = agent_name = ""
    session_cost_usd: float | None = None
    total_input_tokens: int | None = None
    total_output_tokens: int | None = None
    context_used_percentage: float | None = None
    fast_mode = False
    limits: tuple = ()

    def __init__(self, **fields):
        for name, value in fields.items():
            setattr(self, name, value)

    @classmethod
    def parse(cls, data) -> Hook:
        """Whatever came on stdin (a dict from JSON): the fields we use, each checked for its type."""
        if not isinstance(data, dict):
            return cls()
        model, cost = _obj(data.get("model")), _obj(data.get("cost"))
        context, workspace = _obj(data.get("context_window")), _obj(data.get("workspace"))
        return cls(
            session_id=_str(data.get("session_id")),
            model_id=_str(model.get("id")),
            model_name=_str(model.get("display_name")) or _str(model.get("id")),
            version=_str(data.get("version")),
            cwd=_str(data.get("cwd")) or _str(workspace.get("current_dir")),
            project_dir=_str(workspace.get("project_dir")),
            session_cost_usd=_num(cost.get("total_cost_usd")),
            total_input_tokens=_int(context.get("total_input_tokens")),
            total_output_tokens=_int(context.get("total_output_tokens")),
            context_used_percentage=_num(context.get("used_percentage")),
            fast_mode=data.get("fast_mode") is True,
            agent_name=_str(_obj(data.get("agent")).get("name")),
            limits=tuple(_limits(data.get("rate_limits"))),
        )

    def limit(self, window: str) -> Limit | None:
        return next((x for x in self.limits if x.window == window), None)


def _limits(value):
    for window, item in _obj(value).items():
        item = _obj(item)
        used = _num(item.get("used_percentage"))
        if isinstance(window, str) and window and used is not None:
            yield Limit(window, used, _num(item.get("resets_at")))


def _obj(value) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value) -> str:
    return value if isinstance(value, str) else ""


def _num(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value == value and abs(value) != float("inf") else None


def _int(value) -> int | None:
    number = _num(value)
    return int(number) if number is not None and number >= 0 else None
