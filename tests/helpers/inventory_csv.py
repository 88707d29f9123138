"""A camera inventory file as operators write it: the header and two good rows."""

HEADER = "id,name,commune,latitude,longitude,host,port,username,password,model\n"
GOOD = (
    "cam-1,Mairie,27056,49.02,1.15,10.0.0.1,80,admin,s3cret-pass,\n"
    "cam-2,Place,27681,49.10,1.20,10.0.0.2,8080,,,\n"
)
