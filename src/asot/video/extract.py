"""Videos -> a dataset in the standard layout: ``features/<video>.npy`` + ``features/<video>.json``.

:func:`extract_features` decodes every video (:mod:`asot.video.decode`), embeds the sampled
frames with an image backbone (:mod:`asot.video.backbone`) and writes, per video,

* ``features/<video>.npy`` -- ``(frames, D)`` float32, one row per sampled frame;
* ``features/<video>.json`` -- the sidecar: source path, sampling rate (``fps``: the rate the
  frames were kept at; ``requested_fps``), the decoder's frame ``timestamps`` in seconds,
  ``duration``, backbone, image size, seed, decoder and feature size.

The work runs in Lightning's predict loop: a DataLoader (``workers`` processes) decodes videos
in parallel and streams frame chunks of ``batch_size`` to the model on the chosen device;
with ``devices > 1`` Lightning's DDP gives every process its share of the videos.

**Resumable and safe.** Each file is written atomically (temporary file + rename), sidecar
first, array last, so a video is finished exactly when both exist; a run again skips finished
videos (same source and settings). Files not written by this function, or written with other
settings, are never overwritten: that video is reported as failed. A video that cannot be
decoded is reported by name and the others go on.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from asot.io.labels import atomic_write_bytes, write_json
from asot.video.backbone import BackboneError, load_backbone, parse_backbone
from asot.video.decode import VideoDecodeError, find_videos, iter_sampled_frames
from asot.video.defaults import DECODER, DEFAULT_BACKBONE, DEFAULT_FPS, DEFAULT_IMAGE_SIZE, VIDEO_EXTENSIONS

__all__ = ["CREATED_BY", "ExtractionReport", "FeatureConfig", "FeatureExtractionError", "extract_features", "lightning_device", "read_sidecar"]

#: the ``created_by`` field of every sidecar (how this function recognises its own files)
CREATED_BY = "asot features"
#: sidecar fields that must match for a finished video to be skipped on a new run
RESUME_FIELDS = ("source", "requested_fps", "backbone", "image_size", "seed")


class FeatureExtractionError(ValueError):
    """A user error that stops extraction before any video: ``usage`` True for a bad option or
    input path (the command line is wrong), False for a backbone that cannot be loaded."""

    def __init__(self, message: str, *, usage: bool = True):
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class FeatureConfig:
    """Settings of :func:`extract_features`.

    ``fps``: frames kept per second of video (at most the native rate); ``image_size``: frames
    are resized (aspect ratio not kept) to ``image_size`` x ``image_size`` before embedding;
    ``batch_size``: frames per forward pass; ``seed``: weights of ``random:`` backbones.
    """

    backbone: str = DEFAULT_BACKBONE
    fps: float = DEFAULT_FPS
    image_size: int = DEFAULT_IMAGE_SIZE
    batch_size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        parse_backbone(self.backbone)
        if isinstance(self.fps, bool) or not isinstance(self.fps, (int, float)) or not 0 < self.fps < float("inf"):
            raise FeatureExtractionError(f"fps must be a number > 0, got {self.fps!r}")
        for name in ("image_size", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise FeatureExtractionError(f"{name} must be an integer >= 1, got {value!r}")
        if self.image_size < 16:
            raise FeatureExtractionError(f"image_size must be >= 16 pixels, got {self.image_size}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise FeatureExtractionError(f"seed must be an integer, got {self.seed!r}")


@dataclass
class ExtractionReport:
    """What :func:`extract_features` did: video names finished now, skipped (already
    finished), and failed (name -> one-line reason)."""

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    features_dir: Path | None = None
    #: False in the other processes of a multi-device run (``devices > 1``): every process
    #: reports all videos; only the first should print or go on with them
    is_global_zero: bool = True

    @property
    def ok(self) -> bool:
        return not self.failed


def read_sidecar(path: os.PathLike | str) -> dict[str, Any] | None:
    """The sidecar at ``path`` when it is one written by :func:`extract_features`, else None."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("created_by") == CREATED_BY else None


def _video_names(paths: Sequence[Path]) -> dict[str, Path]:
    names: dict[str, Path] = {}
    for path in paths:
        name = path.stem
        if name in names:
            raise FeatureExtractionError(f"two videos would write features/{name}.npy: {names[name]} and {path}; rename one")
        names[name] = path
    return names


def _settings(config: FeatureConfig, source: Path) -> dict[str, Any]:
    return {"source": str(source), "requested_fps": float(config.fps), "backbone": config.backbone,
            "image_size": int(config.image_size), "seed": int(config.seed)}  # fmt: skip


def _status(feat_dir: Path, name: str, settings: dict[str, Any]) -> tuple[str, str]:
    """("todo" | "done" | "refuse", reason) for one video's existing files."""
    npy, side = feat_dir / f"{name}.npy", feat_dir / f"{name}.json"
    if not side.exists():
        if npy.exists():
            return "refuse", f"{npy} exists and was not written by asot features (no sidecar); not overwritten"
        return "todo", ""
    sidecar = read_sidecar(side)
    if sidecar is None:
        return "refuse", f"{side} exists and is not an asot features sidecar; not overwritten"
    differ = [k for k in RESUME_FIELDS if sidecar.get(k) != settings[k]]
    if differ:
        was = ", ".join(f"{k}={sidecar.get(k)!r}" for k in differ)
        return "refuse", (f"{npy} holds features made with {was}; not overwritten (use another --out, "
                          f"or delete features/{name}.npy and .json to redo it)")  # fmt: skip
    if not npy.exists():
        return "todo", ""  # interrupted between the two writes: ours, redone
    return "done", ""


def _identity(item: Any) -> Any:
    return item


class _FrameChunks(torch.utils.data.IterableDataset):
    """Streams ``{"name", "frames" (n, S, S, 3) uint8, "times"}`` chunks per video, then an
    end record ``{"name", "end": info}`` or an error record ``{"name", "error"}``.

    Videos are shared out by process rank (DDP) and then by DataLoader worker."""

    def __init__(self, items: Sequence[tuple[str, Path]], config: FeatureConfig, rank: int = 0, world_size: int = 1):
        self.items = list(items)
        self.config = config
        self.rank, self.world_size = rank, world_size

    def shard(self) -> list[tuple[str, Path]]:
        return self.items[self.rank :: self.world_size]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = torch.utils.data.get_worker_info()
        worker, n_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        for name, path in self.shard()[worker::n_workers]:
            video = None
            try:
                for video, frames, times in iter_sampled_frames(path, self.config.fps, self.config.image_size,
                                                                chunk=self.config.batch_size):  # fmt: skip
                    yield {"name": name, "frames": torch.from_numpy(frames), "times": times,
                           "expected": video.expected_samples(self.config.fps)}  # fmt: skip
            except VideoDecodeError as err:
                yield {"name": name, "error": str(err)}
                continue
            except Exception as err:  # noqa: BLE001 -- any other failure of one file must not stop the rest
                yield {"name": name, "error": f"{path}: {type(err).__name__}: {err}".splitlines()[0]}
                continue
            yield {"name": name, "end": asdict(video) if video is not None else None}


def _lightning_module(encoder, feat_dir: Path, config: FeatureConfig, items: dict[str, Path], progress: bool):  # type: ignore[no-untyped-def]
    """The LightningModule whose predict step embeds one chunk and writes finished videos."""
    import av
    from lightning.pytorch import LightningModule
    from tqdm.auto import tqdm

    decoder = f"{DECODER} {av.__version__} (FFmpeg)"

    class FeatureWriter(LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.partial: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
            self.done: list[str] = []
            self.failed: dict[str, str] = {}
            self.bars: dict[str, Any] = {}
            self.overall = None

        def on_predict_start(self) -> None:
            dataset = self.trainer.predict_dataloaders.dataset
            self.overall = tqdm(total=len(dataset.shard()), desc="videos", unit="video", disable=not progress,
                                position=0, dynamic_ncols=True)  # fmt: skip

        def _finish(self, name: str) -> None:
            self.partial.pop(name, None)
            bar = self.bars.pop(name, None)
            if bar is not None:
                bar.close()
            if self.overall is not None:
                self.overall.update(1)

        def predict_step(self, item: dict[str, Any], batch_idx: int) -> None:
            name = item["name"]
            if "error" in item:
                self.failed[name] = item["error"]
                self._finish(name)
                return None
            if "end" in item:
                self._write(name, item["end"])
                self._finish(name)
                return None
            feats, times = self.partial.setdefault(name, ([], []))
            if name not in self.bars:
                self.bars[name] = tqdm(total=item["expected"], desc=name[:30], unit="frame", leave=False,
                                       disable=not progress, position=1 + len(self.bars), dynamic_ncols=True)  # fmt: skip
            embedded = self.encoder(item["frames"])
            if not torch.isfinite(embedded).all():
                raise FloatingPointError(f"backbone {config.backbone!r} gave non-finite features for {items[name]}")
            feats.append(embedded.cpu().numpy().astype(np.float32, copy=False))
            times.append(np.asarray(item["times"], dtype=np.float64))
            self.bars[name].update(len(item["times"]))
            return None

        def _write(self, name: str, info: dict[str, Any] | None) -> None:
            feats, times = self.partial.get(name, ([], []))
            array = np.concatenate(feats).astype(np.float32, copy=False)
            stamps = np.concatenate(times)
            native = info.get("native_fps") if info else None
            sidecar = {
                "created_by": CREATED_BY,
                **_settings(config, items[name]),
                "fps": float(min(config.fps, native)) if native else float(config.fps),
                "native_fps": native,
                "timestamps": [round(float(t), 6) for t in stamps],
                "duration": info.get("duration") if info else None,
                "n_frames": int(array.shape[0]),
                "feature_dim": int(array.shape[1]),
                "backbone_model": self.encoder.spec.model_id,
                "pretrained": self.encoder.spec.pretrained,
                "decoder": decoder,
                "video_size": [info.get("width"), info.get("height")] if info else None,
            }
            write_json(feat_dir / f"{name}.json", sidecar)
            _save_npy(feat_dir / f"{name}.npy", array)
            self.done.append(name)

        def on_predict_end(self) -> None:
            for bar in self.bars.values():
                bar.close()
            if self.overall is not None:
                self.overall.close()
            if self.trainer.world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
                gathered: list[Any] = [None] * self.trainer.world_size
                torch.distributed.all_gather_object(gathered, (self.done, self.failed))
                self.done = sorted({n for d, _ in gathered for n in d})
                self.failed = {k: v for _, f in gathered for k, v in f.items()}

    return FeatureWriter()


def _save_npy(path: Path, array: np.ndarray) -> None:
    import io

    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())


def lightning_device(device: str) -> tuple[str, Any]:
    """Lightning's ``(accelerator, device ids or None)`` for a ``--device`` value."""
    device = (device or "auto").strip().lower()
    if device in {"auto", "cpu"}:
        return device, None
    if device in {"cuda", "gpu"}:
        return "gpu", None
    if device.startswith("cuda:") and device[5:].isdigit():
        return "gpu", [int(device[5:])]
    if device == "mps":
        return "mps", None
    raise FeatureExtractionError(f"device must be auto, cpu, cuda, cuda:<index> or mps, got {device!r}")


def extract_features(
    inputs: Iterable[os.PathLike | str] | os.PathLike | str,
    out: os.PathLike | str,
    config: FeatureConfig | None = None,
    *,
    device: str = "auto",
    devices: int | str = 1,
    workers: int = 2,
    progress: bool = True,
) -> ExtractionReport:
    """Extract frame features of the videos ``inputs`` (files or folders) into
    ``out/features/`` (see the module docstring). Returns an :class:`ExtractionReport`;
    bad options or inputs raise :class:`FeatureExtractionError` before anything is written,
    Ctrl-C raises :class:`KeyboardInterrupt` (finished videos are kept: run again to go on).
    """
    config = config or FeatureConfig()
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise FeatureExtractionError(f"workers must be an integer >= 0, got {workers!r}")
    accelerator, device_ids = lightning_device(device)
    if importlib.util.find_spec("av") is None:
        raise FeatureExtractionError("decoding videos needs the 'av' package (PyAV): pip install 'asot[video]'", usage=False)
    try:
        videos = find_videos(inputs)
    except FileNotFoundError as err:
        raise FeatureExtractionError(str(err)) from None
    if not videos:
        raise FeatureExtractionError(f"no video files ({', '.join(e.lstrip('.') for e in VIDEO_EXTENSIONS)}) found in {', '.join(map(str, inputs))}")
    items = _video_names(videos)
    out = Path(out)
    feat_dir = out / "features"
    if feat_dir.exists() and not feat_dir.is_dir():
        raise FeatureExtractionError(f"{feat_dir} exists and is not a folder")
    report = ExtractionReport(features_dir=feat_dir)
    todo: dict[str, Path] = {}
    for name, path in items.items():
        state, reason = _status(feat_dir, name, _settings(config, path))
        if state == "done":
            report.skipped.append(name)
        elif state == "refuse":
            report.failed[name] = reason
        else:
            todo[name] = path
    if not todo:
        return report
    try:
        encoder = load_backbone(config.backbone, seed=config.seed)
    except BackboneError as err:
        raise FeatureExtractionError(str(err), usage=err.usage) from None
    feat_dir.mkdir(parents=True, exist_ok=True)
    module = _lightning_module(encoder, feat_dir, config, todo, progress)
    report.is_global_zero = _run_predict(module, list(todo.items()), config, accelerator, device_ids or devices, workers)
    report.done.extend(module.done)
    report.failed.update(module.failed)
    return report


def _run_predict(module, items: list[tuple[str, Path]], config: FeatureConfig, accelerator: str, devices: Any, workers: int) -> bool:  # type: ignore[no-untyped-def]
    """Run the predict loop; whether this process is global rank 0."""
    from lightning.pytorch import LightningDataModule, Trainer

    class Chunks(LightningDataModule):
        def predict_dataloader(self):  # type: ignore[no-untyped-def]
            dataset = _FrameChunks(items, config, rank=self.trainer.global_rank, world_size=self.trainer.world_size)
            n_workers = min(workers, len(dataset.shard()))
            return torch.utils.data.DataLoader(dataset, batch_size=None, collate_fn=_identity, num_workers=n_workers,
                                               pin_memory=accelerator == "gpu")  # fmt: skip

    n_devices = devices if isinstance(devices, list) else (int(devices) if str(devices).isdigit() else devices)
    strategy = "ddp" if isinstance(n_devices, int) and n_devices > 1 else "auto"
    trainer = Trainer(accelerator=accelerator, devices=n_devices, strategy=strategy, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, inference_mode=True)  # fmt: skip
    main_thread = threading.current_thread() is threading.main_thread()
    sigint = signal.getsignal(signal.SIGINT) if main_thread else None
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*predict returned None.*")
            trainer.predict(module, datamodule=Chunks(), return_predictions=False)
    except SystemExit:  # Lightning catches Ctrl-C and calls exit(1)
        if trainer.interrupted:
            raise _interrupted(module) from None
        raise
    finally:
        if main_thread and sigint is not None:
            signal.signal(signal.SIGINT, sigint)  # Lightning ignores Ctrl-C from its interrupt handler on
    if trainer.interrupted:
        raise _interrupted(module)
    if trainer.world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()  # what follows (training, printing) runs in one process
    return bool(trainer.is_global_zero)


def _interrupted(module) -> KeyboardInterrupt:  # type: ignore[no-untyped-def]
    return KeyboardInterrupt(f"feature extraction stopped; {len(module.done)} videos finished in this run are kept, "
                             "run the same command again to finish the rest")  # fmt: skip
