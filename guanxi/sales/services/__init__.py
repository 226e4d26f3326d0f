"""The sales' writes, one module per part; each public function is ``<entity>_<verb>``."""
