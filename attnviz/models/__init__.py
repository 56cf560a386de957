"""Models: the zoo (bundled, local-file and timm pretrained models), our architectures, class
names and the preprocessing each model was trained with."""
