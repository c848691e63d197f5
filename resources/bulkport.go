package resources

type portBulk struct{}
