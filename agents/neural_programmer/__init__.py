"""The Neural Programmer (Neelakantan, Le & Sutskever, ICLR 2016) for the table-question envs."""
