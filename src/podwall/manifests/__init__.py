"""Reading manifests: files, directories, stdin, multi-document YAML, Lists -> validated model."""

from podwall.manifests.documents import read_yaml_file
from podwall.manifests.load import LoadResult, load_cluster

__all__ = ["LoadResult", "load_cluster", "read_yaml_file"]
