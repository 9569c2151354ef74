"""``hiitpi`` command line: serve, analyze, replay, eval, bench, models, exercises, plans, pin,
check-config."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hiitpi import __version__
from hiitpi.config import Settings, load_config
from hiitpi.errors import ConfigError, HiitPiError
from hiitpi.logs import setup_logging


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Command-line flags -> config overrides (only the flags that were given)."""
    out: dict[str, Any] = {}
    pose: dict[str, Any] = {}
    if getattr(args, "backend", None):
        pose["backend"] = args.backend
    if getattr(args, "model", None):
        pose["model_path"] = args.model
    if getattr(args, "complexity", None) is not None:
        pose["model_complexity"] = args.complexity
    if getattr(args, "delegate", None):
        pose["delegate"] = args.delegate
    if pose:
        out["pose"] = pose
    if getattr(args, "source", None):
        out["source"] = {"uri": args.source}
    web = {k: getattr(args, k) for k in ("host", "port") if getattr(args, k, None) is not None}
    if web:
        out["web"] = web
    return out


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_config(args.config, _overrides(args))
    setup_logging("DEBUG" if args.verbose else settings.log_level)
    return settings


def _add_pose_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("pose backend")
    g.add_argument(
        "--backend",
        help="pose backend (serve: unset = the most accurate that keeps up here, chosen once per "
        "machine; analyze/eval: the configured default, blazepose)",
    )
    g.add_argument("--model", type=Path, help="model file (e.g. pose_landmark_lite.tflite)")
    g.add_argument(
        "--complexity", type=int, choices=(0, 1, 2), help="BlazePose 0 lite, 1 full, 2 heavy"
    )
    g.add_argument("--delegate", choices=("edgetpu",), help="hardware delegate")


def _progress_bar(enabled: bool) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(unit="frame", dynamic_ncols=True, file=sys.stderr, leave=False)

    def update(done: int, total: int) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    return update, bar.close


def _print_report(report: Any, as_json: bool) -> None:
    data = report.to_json()
    if as_json:
        print(json.dumps(data, indent=2))
        return
    print(f"{data['video']}: {data['exercise']}")
    print(f"  reps     {data['reps']}")
    print(f"  no-reps  {data['no_reps']}")
    for nr in data["no_rep_reasons"]:
        print(f"    {nr['t']:7.2f} s  {nr['reason']}")
    if data.get("view"):
        share = ", ".join(f"{v} {s:.0%}" for v, s in data["view_share"].items())
        print(f"  view     {data['view']} ({share})")
    unjudged = sum(1 for r in data.get("rep_details", []) if not r["form_judged"])
    if unjudged:
        print(f"  {unjudged} rep(s) counted without judging form (not judged from this angle)")
    if data.get("message", "").startswith("Turn the camera"):
        print(f"  {data['message']}")
    times = ", ".join(f"{t:.1f}" for t in data["rep_times"])
    print(f"  rep times (s)  {times or '-'}")
    print(f"  pace     {data['pace']:.1f} reps / 30 s")
    if data["hold_s"]:
        print(f"  held     {data['hold_s']:.1f} s with good form")
    print(
        f"  {data['frames']} frames, {data['duration_s']:.1f} s of video, "
        f"{data['frames_without_pose']} without a pose, {data['fps_processed']:.0f} frames/s "
        f"({data['backend']}{', pose track from cache' if data.get('pose_cache') else ''})"
    )


def cmd_analyze(args: argparse.Namespace) -> int:
    from hiitpi.engine.offline import analyze_video

    settings = _settings(args)
    update, done = _progress_bar(sys.stderr.isatty() and not args.no_progress)
    try:
        report = analyze_video(
            args.video,
            args.exercise,
            settings,
            annotated=args.annotated,
            track_out=args.track,
            use_cache=not args.no_cache,
            progress=update,
        )
    finally:
        done()
    _print_report(report, args.json)
    if report.warning:
        print(f"warning: {args.video}: {report.warning}", file=sys.stderr)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from hiitpi.engine.offline import replay_track

    settings = _settings(args)
    _print_report(replay_track(args.track, args.exercise, settings), args.json)
    return 0


def cmd_exercises(args: argparse.Namespace) -> int:
    from hiitpi.referee import available_exercises

    settings = _settings(args)
    for entry in available_exercises(settings.user_exercises_dir):
        note = f"  (user: {entry.path})" if entry.origin == "user" else ""
        print(f"{entry.id:18s} {entry.label}{note}")
    return 0


def _describe_block(b: Any) -> str:
    work = []
    if b.target is not None:
        work.append(f"{b.target} reps")
    if b.work_s is not None:
        work.append(f"{b.work_s:g} s")
    text = f"{b.exercise} " + " or ".join(work)
    if b.period_s is not None:
        text += f" every {b.period_s:g} s"
    elif b.rest_s:
        text += f", rest {b.rest_s:g} s"
    return text


def cmd_plans(args: argparse.Namespace) -> int:
    """The plans (presets and the user's); a user file that is invalid is shown with why."""
    from hiitpi.plans import load_plans, user_plans_dir

    settings = _settings(args)
    plans, errors = load_plans(settings.data_dir)
    for plan in sorted(plans.values(), key=lambda p: p.id):
        rounds = f"AMRAP {plan.time_cap_s:g} s" if plan.time_cap_s else f"x{plan.rounds}"
        print(f"{plan.id:20s} {plan.name} ({rounds})")
        if args.verbose_plans:
            for b in plan.blocks:
                print(f"{'':22s}{_describe_block(b)}")
    for error in errors:
        print(f"invalid: {error}", file=sys.stderr)
    if args.verbose_plans:
        print(f"user plans: {user_plans_dir(settings.data_dir)}")
    return 2 if errors else 0


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = _settings(args)
    print(json.dumps(settings.model_dump(mode="json"), indent=2))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from hiitpi.app import serve

    settings = _settings(args)
    return int(serve(settings, args.exercise) or 0)


def cmd_eval(args: argparse.Namespace) -> int:
    from hiitpi.evaluation import run_eval_command

    return run_eval_command(args, _settings(args))


def cmd_models(args: argparse.Namespace) -> int:
    from hiitpi.pose import models

    settings = _settings(args)
    folder = settings.pose.models_dir.expanduser()
    if args.action == "fetch":
        names = args.names or models.DEFAULT_MODELS
        found = models.fetch(folder, names, force=args.force, archive=args.archive)
    else:
        if args.names:
            raise ConfigError("`hiitpi models` takes model names only after `fetch`")
        found = models.inspect(folder)
    if args.quiet and all(f.status == "OK" for f in found):
        print(f"models: {len(found)} OK in {folder}")
        return 0
    print(f"models folder: {folder} (pose.models_dir)")
    if settings.pose.model_path is not None:
        print(f"pose.model_path overrides the backend's file: {settings.pose.model_path}")
    for f in found:
        size = f"{f.size / 1e6:.1f} MB" if f.size is not None else "-"
        print(f"  {f.model.name:26s} {f.status:8s} {size:>8s}  {f.path.name}")
        print(f"  {'':26s} {f.model.what}; sha256 {f.sha256 or '-'}")
    missing = [
        f.model.name for f in found if f.status != "OK" and f.model.name in models.DEFAULT_MODELS
    ]
    if missing:
        where = "" if folder.is_dir() else f" (the folder {folder} does not exist yet)"
        print(
            f"BlazePose (the default backend) needs {', '.join(missing)}{where}: "
            "`hiitpi models fetch` (or "
            "`make models`) puts them there, or set pose.models_dir to a folder that has them"
        )
    return 0


def cmd_views(args: argparse.Namespace) -> int:
    from hiitpi.views_eval import run_views_command

    return run_views_command(args, _settings(args))


def cmd_bench(args: argparse.Namespace) -> int:
    from hiitpi.bench import run_bench_command

    return run_bench_command(args, _settings(args))


def _read_pin(prompt: str, from_stdin: bool) -> str:
    """A PIN from standard input (one line: scripts) or typed twice without echo."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass(prompt)
    if getpass.getpass("The same again: ") != first:
        raise ConfigError("the two PINs differ")
    return first


def cmd_pin(args: argparse.Namespace) -> int:
    """The station PIN (stored as a scrypt hash in data_dir) and the scripts' API token."""
    from hiitpi.web.security import credentials_for, hash_pin

    settings = _settings(args)
    creds = credentials_for(settings)
    try:
        if args.action == "set":
            creds.set_pin(_read_pin("New station PIN: ", args.stdin))
            print(f"PIN set ({creds.pin_path}): changes on the web now need it")
        elif args.action == "clear":
            removed = creds.clear_pin()
            print("PIN removed: the station is open to its network" if removed else "no PIN set")
        elif args.action == "hash":
            print(hash_pin(_read_pin("PIN to hash: ", args.stdin)))
        elif args.action == "token":
            print(creds.ensure_api_token(new=args.new))
        else:
            where = "web.pin_hash in the config" if creds.configured_hash else creds.pin_path
            print(f"PIN: {'set (' + str(where) + ')' if creds.has_pin() else 'not set'}")
            print(f"viewing needs the PIN: {'yes' if settings.web.pin_to_view else 'no'}")
            print(f"API token: {creds.token_path if creds.api_token() else 'none yet'}")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hiitpi", description="HIIT PI: an electronic referee for home workouts."
    )
    parser.add_argument("--version", action="version", version=f"hiitpi {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML config file (default: $HIITPI_CONFIG)")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", parents=[common], help="run the live referee and the web app")
    p.add_argument("--source", help="camera index, video file, rtsp/http URL or 'picamera'")
    p.add_argument("--host", help="address to bind (default 0.0.0.0: the whole LAN)")
    p.add_argument("--port", type=int, help="port (default 8050)")
    p.add_argument(
        "--exercise", help="start counting this exercise (an id or a .toml file) right away"
    )
    _add_pose_args(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("analyze", parents=[common], help="count the reps in a video file")
    p.add_argument("video", help="video file")
    p.add_argument(
        "--exercise",
        "-e",
        required=True,
        help="exercise id (see `hiitpi exercises`) or a definition file (my_move.toml)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.add_argument("--annotated", type=Path, metavar="OUT.mp4", help="write an annotated video")
    p.add_argument("--track", type=Path, metavar="OUT.jsonl", help="write the pose track")
    p.add_argument("--no-cache", action="store_true", help="ignore and do not write the cache")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_pose_args(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("replay", parents=[common], help="count the reps in a recorded pose track")
    p.add_argument("track", type=Path, help="pose track (.jsonl) from `analyze --track`")
    p.add_argument(
        "--exercise", "-e", required=True, help="exercise id or a definition file (.toml)"
    )
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("eval", parents=[common], help="accuracy on a manifest of counted clips")
    try:
        from hiitpi.evaluation import add_eval_arguments
    except ImportError:  # the harness module is optional while it is being built
        pass
    else:
        add_eval_arguments(p)
        _add_pose_args(p)
        p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "views", parents=[common], help="the camera-view estimate against a manifest's 'view'"
    )
    from hiitpi.views_eval import add_views_arguments

    add_views_arguments(p)
    p.set_defaults(func=cmd_views)

    p = sub.add_parser("bench", parents=[common], help="performance: ceiling, offline, live")
    from hiitpi.bench import add_bench_arguments

    add_bench_arguments(p)
    _add_pose_args(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser(
        "models", parents=[common], help="list the model files (or fetch NAME: download one)"
    )
    p.add_argument("action", nargs="?", choices=("list", "fetch"), default="list")
    p.add_argument("names", nargs="*", help="models to fetch (default: the BlazePose files)")
    p.add_argument("--force", action="store_true", help="fetch again even when the file is OK")
    p.add_argument(
        "--archive",
        type=Path,
        metavar="TGZ",
        help="the @mediapipe/pose npm tarball already on disk (npm pack) instead of a download",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="one line when every file is OK")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser(
        "exercises", parents=[common], help="list the exercise ids (built-in and the user's)"
    )
    p.set_defaults(func=cmd_exercises)

    p = sub.add_parser("plans", parents=[common], help="list the workout plans")
    p.add_argument("--blocks", dest="verbose_plans", action="store_true", help="show every block")
    p.set_defaults(func=cmd_plans)

    p = sub.add_parser(
        "pin", parents=[common], help="the station PIN for the web app, and the API token"
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=("status", "set", "clear", "hash", "token"),
        default="status",
        help="set/clear the PIN; hash: print a hash for web.pin_hash; token: print the API "
        "token scripts send as 'Authorization: Bearer <token>' (made on first use)",
    )
    p.add_argument("--stdin", action="store_true", help="read the PIN from standard input")
    p.add_argument("--new", action="store_true", help="token: make a new one (the old stops)")
    p.set_defaults(func=cmd_pin)

    p = sub.add_parser("check-config", parents=[common], help="validate and print the config")
    p.set_defaults(func=cmd_check_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.error(f"{args.command}: not available in this build")
    try:
        return int(args.func(args))
    except HiitPiError as exc:
        print(f"hiitpi: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hiitpi: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
